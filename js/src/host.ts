// Entry inlined into pages written by `widget.to_html()`: mounts every embedded view.

import { mount } from "./static-host";

for (const s of Array.from(document.querySelectorAll<HTMLScriptElement>('script[type="application/vnd.headlab.widget+json"]'))) {
  mount(s).catch((e) => {
    const p = document.createElement("pre");
    p.textContent = `headlab: could not render this view: ${e}`;
    s.insertAdjacentElement("afterend", p);
  });
}
