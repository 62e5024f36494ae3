// Renders /openapi.json: operations grouped by tag, with parameters, request body and responses. Schemas are
// shown as JSON with references expanded, so the page needs nothing but the document itself.
const root = document.getElementById("operations");
const spec = await (await fetch("/openapi.json")).json();
document.getElementById("title").textContent = `${spec.info.title} ${spec.info.version}`;
document.getElementById("description").textContent = spec.info.description || "";

function resolve(node, seen = new Set()) {
  if (Array.isArray(node)) return node.map((entry) => resolve(entry, seen));
  if (!node || typeof node !== "object") return node;
  if (node.$ref) {
    if (seen.has(node.$ref)) return { $ref: node.$ref };
    const target = node.$ref.replace(/^#\//, "").split("/").reduce((value, key) => value[key], spec);
    return resolve(target, new Set([...seen, node.$ref]));
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value, seen)]));
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function schemaBlock(schema) {
  return element("pre", {}, element("code", {}, JSON.stringify(resolve(schema), null, 2)));
}

function operation(path, method, op) {
  const content = element("div", { class: "content" });
  if (op.description) content.append(element("p", {}, op.description));
  const parameters = (op.parameters || []).map((parameter) => resolve(parameter));
  if (parameters.length) {
    const rows = parameters.map((p) => element("tr", {},
      element("td", {}, element("code", {}, p.name)), element("td", {}, p.in),
      element("td", {}, p.required ? "required" : ""), element("td", {}, element("code", {}, JSON.stringify(p.schema))),
      element("td", {}, p.description || "")));
    content.append(element("h4", {}, "Parameters"),
      element("table", {}, element("tr", {}, ...["name", "in", "", "schema", ""].map((h) => element("th", {}, h))), ...rows));
  }
  const body = op.requestBody && resolve(op.requestBody);
  if (body) {
    for (const [type, media] of Object.entries(body.content)) {
      content.append(element("h4", {}, `Request body (${type})`), schemaBlock(media.schema));
    }
  }
  content.append(element("h4", {}, "Responses"));
  for (const [code, raw] of Object.entries(op.responses)) {
    const response = resolve(raw);
    content.append(element("p", {}, element("strong", {}, code), ` ${response.description || ""}`));
    for (const [type, media] of Object.entries(response.content || {})) {
      if (media.schema && type === "application/json") content.append(schemaBlock(media.schema));
    }
  }
  return element("details", { class: "op", id: `${method}-${path}` },
    element("summary", {}, element("span", { class: `method ${method}` }, method.toUpperCase()),
      element("span", { class: "path" }, path), element("span", { class: "summary" }, op.summary || ""),
      op.security ? element("span", { class: "lock" }, "bearer token") : null),
    content);
}

const byTag = new Map();
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ["other"])[0];
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push(operation(path, method, op));
  }
}
root.replaceChildren(...[...byTag].flatMap(([tag, operations]) => [element("h2", {}, tag), ...operations]));
