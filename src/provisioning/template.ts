// configEntry templates. A template is checked once when the provisioner is built, so a typo in
// the operator configuration is a validation error with its path, never a bad line at run time.
import { DEFAULT_CONFIG_TEMPLATE } from './config.js';

export const TEMPLATE_FIELDS = [
  'name',
  'address',
  'port',
  'host',
  'hostPool',
  'provisioner',
  'namespace',
  'request',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type TemplateValues = Partial<Record<TemplateField, string | number | undefined>>;

type Part = { text: string } | { field: TemplateField };

export interface ConfigTemplate {
  readonly source: string;
  render(values: TemplateValues): string;
}

const FIELD_SET: ReadonlySet<string> = new Set(TEMPLATE_FIELDS);

/**
 * Parses `{field}` placeholders; `{{` and `}}` stand for literal braces. Throws with a message
 * fit for a ConfigIssue. A field without a value renders as the empty string.
 */
export function compileTemplate(source: string = DEFAULT_CONFIG_TEMPLATE): ConfigTemplate {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const next = source[i + 1];
    if ((c === '{' && next === '{') || (c === '}' && next === '}')) {
      text += c;
      i++;
    } else if (c === '{') {
      const end = source.indexOf('}', i + 1);
      if (end < 0) throw new Error(`unclosed "{" at offset ${i}`);
      const field = source.slice(i + 1, end);
      if (!FIELD_SET.has(field)) {
        throw new Error(`unknown placeholder "{${field}}" (known: ${TEMPLATE_FIELDS.join(', ')})`);
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({ field: field as TemplateField });
      i = end;
    } else if (c === '}') {
      throw new Error(`unmatched "}" at offset ${i}`);
    } else {
      text += c;
    }
  }
  if (text) parts.push({ text });
  return {
    source,
    render(values) {
      return parts.map((p) => ('text' in p ? p.text : String(values[p.field] ?? ''))).join('');
    },
  };
}
