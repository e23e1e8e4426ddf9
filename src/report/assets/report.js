const table = document.getElementById('results');
const body = table.tBodies[0];
const filter = document.getElementById('filter');
const packages = () => Array.from(body.querySelectorAll('tr.package'));
function detailsOf(row) { return document.getElementById('details-' + row.dataset.package); }
function applyFilter() {
  const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const row of packages()) {
    const text = row.textContent.toLowerCase() + ' ' + detailsOf(row).textContent.toLowerCase();
    const visible = words.every(w => text.includes(w));
    row.hidden = !visible;
    detailsOf(row).hidden = !visible || !row.classList.contains('open');
    shown += visible;
  }
  document.getElementById('shown').textContent = shown;
}
function sortBy(column, descending) {
  const rows = packages();
  const key = r => { const c = r.cells[column]; return c ? (c.dataset.sort ?? c.textContent) : ''; };
  rows.sort((a, b) => key(a).localeCompare(key(b), undefined, {numeric: true}) * (descending ? -1 : 1));
  for (const row of rows) { body.appendChild(row); body.appendChild(detailsOf(row)); }
  for (const th of table.querySelectorAll('thead tr.columns th')) th.removeAttribute('aria-sort');
  const th = table.querySelector('thead tr.columns').cells[column];
  th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
}
function toggle(row, open) {
  row.classList.toggle('open', open);
  detailsOf(row).hidden = !open;
}
filter.addEventListener('input', applyFilter);
table.querySelectorAll('thead tr.columns th').forEach((th, i) => th.addEventListener('click', () =>
  sortBy(i, th.getAttribute('aria-sort') === 'ascending')));
body.addEventListener('click', e => {
  const row = e.target.closest('tr.package');
  if (row) toggle(row, !row.classList.contains('open'));
});
// The view from the address: #filter=words&sort=column[:desc]&open=package
const state = new URLSearchParams(location.hash.slice(1));
if (state.get('filter')) { filter.value = state.get('filter'); }
if (state.get('sort')) {
  const [name, order] = state.get('sort').split(':');
  const index = Array.from(table.querySelector('thead tr.columns').cells).findIndex(th => th.dataset.key === name);
  if (index >= 0) sortBy(index, order === 'desc');
}
if (state.get('open')) {
  const row = body.querySelector('tr.package[data-package="' + CSS.escape(state.get('open')) + '"]');
  if (row) toggle(row, true);
}
applyFilter();
