// Loads the browser code only on a page that has islands, then hydrates each island in page order.
// A page without one (home, lists, reports, admin tables) downloads no script at all. Either way the
// body is marked `data-hydrated` once every island has its handlers (the end-to-end tests wait for it).
const islands = document.querySelectorAll('leptos-island');
if (islands.length > 0) {
  const code = await import('PKG.js');
  await code.default({ module_or_path: 'PKG.wasm' });
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
