// Parses LogQL and TraceQL queries with Grafana's own grammars (the Lezer
// parsers Grafana's query editors use) and lists the label and attribute
// names they use.
//
// stdin:  [{"dashboard", "panel", "language": "logql"|"traceql", "query"}]
// stdout: {"errors": [{dashboard, panel, query, position, message}],
//          "fields": [{dashboard, panel, language, field, kind}]}
//         kind: "label" (LogQL), "attribute" or "intrinsic" (TraceQL).
// Exit status 1 when a query has a syntax error, 2 on bad input.
import { readFileSync } from 'node:fs';
import { parser as logql } from '@grafana/lezer-logql';
import { parser as traceql } from '@grafana/lezer-traceql';

const parsers = { logql, traceql };

// The label or attribute a node names, or null. LogQL: every Identifier
// (stream selector and label filter matchers, label_format, parsers,
// unwrap) and LabelName (by/without). TraceQL: scoped attributes as written
// (`resource.store.id`, `span.http.route`, `.foo`) and intrinsics (`status`).
function field(language, node, text) {
  const name = node.type.name;
  if (language === 'logql') {
    return name === 'Identifier' || name === 'LabelName' ? { field: text, kind: 'label' } : null;
  }
  if (name === 'AttributeField') return { field: text.replace(/\s+/g, ''), kind: 'attribute' };
  if (name === 'IntrinsicField') return { field: text.replace(/\s+/g, ''), kind: 'intrinsic' };
  return null;
}

let input;
try {
  input = JSON.parse(readFileSync(0, 'utf8'));
  if (!Array.isArray(input)) throw new Error('expected a JSON array');
} catch (e) {
  console.error(`check.mjs: bad input: ${e.message}`);
  process.exit(2);
}

const errors = [];
const fields = [];
for (const { dashboard, panel, language, query } of input) {
  const parser = parsers[language];
  if (!parser || typeof query !== 'string') {
    console.error(`check.mjs: ${dashboard} / ${panel}: unknown language ${language} or no query`);
    process.exit(2);
  }
  let firstError = null;
  parser.parse(query).iterate({
    enter(node) {
      if (node.type.isError) {
        // Lezer recovers and marks the spot; the first one is the one to fix.
        firstError ??= node.from;
        return false;
      }
      const f = field(language, node, query.slice(node.from, node.to));
      if (f) {
        fields.push({ dashboard, panel, language, ...f });
        return false; // an attribute's children (scope, name) are not fields of their own
      }
    },
  });
  // An empty query parses to an empty tree without an error node.
  if (firstError === null && query.trim() === '') firstError = 0;
  if (firstError !== null) {
    const at = query.slice(firstError, firstError + 20);
    const message = at
      ? `${language} syntax error at offset ${firstError}, near ${JSON.stringify(at)}`
      : `${language} syntax error at offset ${firstError}: unexpected end of query`;
    errors.push({ dashboard, panel, query, position: firstError, message });
  }
}
process.stdout.write(JSON.stringify({ errors, fields }, null, 1) + '\n');
process.exit(errors.length ? 1 : 0);
