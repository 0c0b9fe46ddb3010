/**
 * What the live tree views (Threads, Requests) share: the view itself, asking for the data stream only while
 * the view is visible, a refresh throttled to REFRESH_MS however fast updates arrive, and an aria label
 * "<label>: <description>" on every row (what the UI tests find rows by). A view supplies its rows
 * (getChildren) and one tree item per row (item).
 */
import * as vscode from 'vscode';
import type { MetricsSubscription } from './metricsSubscription';

/** Refresh at most this often, however fast updates arrive. */
const REFRESH_MS = 250;

export abstract class LiveTree<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  protected readonly changed = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  protected readonly view: vscode.TreeView<T>;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;

  /** `stream`: the subscription this view keeps open while visible; `updates`: events that change its rows. */
  constructor(
    viewId: string,
    stream: MetricsSubscription,
    updates: vscode.Event<unknown>[],
    options: { showCollapseAll?: boolean } = {},
  ) {
    this.view = vscode.window.createTreeView(viewId, { treeDataProvider: this, ...options });
    this.disposables.push(
      this.view,
      this.changed,
      this.view.onDidChangeVisibility((e) => stream.setVisible('tree', e.visible)),
      ...updates.map((event) => event(() => this.refresh())),
    );
    stream.setVisible('tree', this.view.visible);
  }

  abstract getChildren(node?: T): T[];

  /** The tree item of one row, before its aria label is added. */
  protected abstract item(node: T): vscode.TreeItem;

  getTreeItem(node: T): vscode.TreeItem {
    const item = this.item(node);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    item.accessibilityInformation = { label: `${label}: ${item.description ?? ''}` };
    return item;
  }

  private refresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, REFRESH_MS);
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}
