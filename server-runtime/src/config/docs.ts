/** Markdown documentation of a field, from the schema: used by hover and by completion items. */
import { defaultText, exampleLine, type FieldSpec } from './schema';

export function rangeLabel(spec: FieldSpec): string | undefined {
  if (spec.min !== undefined && spec.max !== undefined) return `${spec.min}–${spec.max}`;
  if (spec.min !== undefined) return `≥ ${spec.min}`;
  if (spec.max !== undefined) return `≤ ${spec.max}`;
  return undefined;
}

export function fieldSummary(spec: FieldSpec): string {
  return `${spec.type}${spec.required ? ', required' : ', optional'}`;
}

export function fieldMarkdown(spec: FieldSpec): string {
  const facts = [`Default: \`${defaultText(spec) || '(empty)'}\``];
  const range = rangeLabel(spec);
  if (range) facts.push(`Range: ${range}`);
  if (spec.values) facts.push(`Values: ${spec.values.map((v) => `\`${v}\``).join(', ')}`);
  facts.push(`Example: \`${exampleLine(spec)}\``);
  return [`**${spec.name}** (${fieldSummary(spec)})`, '', spec.description, '', facts.join(' · ')].join('\n');
}
