/// `/docs`: renders ``OpenAPIDocument`` in the browser, as FastAPI's `/docs` does, without fetching anything from a
/// CDN, so it works on a machine with no Internet access.
enum DocsPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>Herald API</title>
        <style>
          :root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; background: #fafbfc; }
          body { margin: 0 auto; max-width: 980px; padding: 16px 24px 60px; }
          h1 { margin-bottom: 4px; }
          h2 { margin-top: 32px; border-bottom: 1px solid #dde2ea; padding-bottom: 4px; text-transform: capitalize; }
          details.op { border: 1px solid #dde2ea; border-radius: 8px; margin: 8px 0; background: #fff; }
          details.op > summary { display: flex; gap: 12px; align-items: center; padding: 8px 12px; cursor: pointer; }
          .method { min-width: 64px; text-align: center; font-weight: 700; font-size: 12px; color: #fff; border-radius: 4px;
                    padding: 3px 0; background: #5b6478; }
          .method.get { background: #3e63dd; } .method.post { background: #30a46c; }
          .method.put { background: #f5a524; } .method.delete { background: #e5484d; }
          .path { font-family: ui-monospace, monospace; font-weight: 600; }
          .summary { color: #5b6478; }
          .lock { margin-left: auto; font-size: 12px; color: #5b6478; }
          .content { padding: 4px 16px 12px; border-top: 1px solid #eef1f6; }
          table { border-collapse: collapse; width: 100%; font-size: 14px; }
          th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef1f6; vertical-align: top; }
          pre { background: #f4f6fa; padding: 8px; border-radius: 6px; overflow: auto; font-size: 12px; }
          code { font-family: ui-monospace, monospace; }
        </style>
        </head>
        <body>
        <h1 id="title">Herald API</h1>
        <p id="description"></p>
        <p><a href="/openapi.json">openapi.json</a></p>
        <div id="operations">Loading…</div>
        <script type="module" src="/docs.js"></script>
        </body>
        </html>
        """#

    static let script = #"""
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
        """#
}
