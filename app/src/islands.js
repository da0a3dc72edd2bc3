// Loads the browser code only on a page that has islands, then hydrates each island in page order.
// A page without one (home, lists, reports, admin tables) downloads no script at all. A release
// build also has smaller bundles, each compiled with only some islands (__BUNDLES__, smallest first;
// frontend/bundles): the page takes the first that holds all of its islands, else the whole code. Either way the body
// is marked `data-hydrated` once every island has its handlers (the end-to-end tests wait for it).
// Copy buttons (`<button data-copy="ID" hidden>`): shown once this script runs, each copies the
// text of the element ID and says so in the status next to it. Without JavaScript the text is
// selected and copied as any other.
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    const text = document.getElementById(button.dataset.copy)?.innerText ?? '';
    const status = button.parentElement.querySelector('[role=status]');
    try {
      await navigator.clipboard.writeText(text);
      if (status) status.textContent = button.dataset.copied ?? 'Copied';
    } catch {
      if (status) status.textContent = '';
    }
  });
}
const islands = [...document.querySelectorAll('leptos-island')];
if (islands.length > 0) {
  const names = islands.map((island) => island.dataset.component);
  const bundle = __BUNDLES__.find((b) => names.every((name) => b.islands.includes(name)));
  const file = `__DIR__/__NAME__${bundle ? `-${bundle.name}` : ''}`;
  const code = await import(`${file}.js`);
  await code.default({ module_or_path: `${file}.wasm` });
  code.hydrate();
  for (const island of islands) {
    const hydrate = code[island.dataset.component];
    if (hydrate) {
      await hydrate(island);
    } else {
      console.warn(`no browser code for the island ${island.dataset.component}`);
    }
  }
}
document.body.setAttribute('data-hydrated', '');
