// Placeholder entry: the real views live in their own modules (see issue on widgets).

type Model = { get(name: string): unknown };

function render({ model, el }: { model: Model; el: HTMLElement }) {
  el.classList.add("headlab-root");
  const p = document.createElement("p");
  p.className = "headlab-hello";
  p.textContent = String(model.get("message") ?? "");
  el.appendChild(p);
}

export default { render };
