// The language server / supervisor runs as a plain Node process, outside VS Code's extension host: it cannot
// use the vscode API. server-runtime/tsconfig.json maps the module 'vscode' to this file, which is not a
// module, so `import ... from 'vscode'` there fails the build ("is not a module").
declare const noVscodeInTheLanguageServer: never;
