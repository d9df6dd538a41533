// The decisions table of ecr-cleaner's HTML report: filter, sort, and show rows a page
// at a time, so that 100,000 decisions stay usable. Text goes in with textContent only.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const strings = data.strings;
  const rows = data.rows;
  // Row cells: 0 action, 1 repository, 2 digest, 3 tags, 4 rule, 5 size, 6 age (days),
  // 7 status, 8 reason. Interned cells are indexes into `strings`.
  const INTERNED = [true, true, false, true, true, false, false, true, true];
  const NUMERIC = [false, false, false, false, false, true, true, false, false];
  const PAGE = 250;

  const table = document.getElementById("decisions");
  const body = table.tBodies[0];
  const filter = document.getElementById("filter");
  const count = document.getElementById("count");
  const more = document.getElementById("more");
  const headers = Array.from(table.tHead.rows[0].cells);

  let lower = null; // strings, lower-cased, built on the first filter
  let haystacks = null;
  let rank = null; // each string's place in sorted order, built on the first sort
  let view = rows.map((_, i) => i);
  let shown = 0;
  let sortColumn = -1;
  let sortDirection = 1;

  function size(bytes) {
    if (bytes === null) return "";
    let value = bytes;
    for (const unit of ["B", "KiB", "MiB", "GiB"]) {
      if (value < 1024 || unit === "GiB") {
        return unit === "B" ? value + " B" : value.toFixed(1) + " " + unit;
      }
      value /= 1024;
    }
    return bytes + " B";
  }

  function age(days) {
    if (days === null) return "";
    return days < 1 ? "<1d" : Math.floor(days) + "d";
  }

  function text(row, column) {
    const cell = row[column];
    if (INTERNED[column]) return strings[cell];
    if (column === 5) return size(cell);
    if (column === 6) return age(cell);
    return cell;
  }

  function haystack(i) {
    const row = rows[i];
    return [0, 1, 3, 4, 7, 8].map((c) => lower[row[c]]).join("\u0001") + "\u0001" + row[2];
  }

  function matching(query) {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    const all = rows.map((_, i) => i);
    if (!terms.length) return all;
    if (lower === null) {
      lower = strings.map((s) => s.toLowerCase());
      haystacks = all.map(haystack);
    }
    return all.filter((i) => terms.every((t) => haystacks[i].includes(t)));
  }

  function compare(a, b) {
    const x = rows[a][sortColumn];
    const y = rows[b][sortColumn];
    let order;
    if (NUMERIC[sortColumn]) {
      if (x === y) order = 0;
      else if (x === null) return 1; // unknown sizes and ages last, either way
      else if (y === null) return -1;
      else order = x < y ? -1 : 1;
    } else if (INTERNED[sortColumn]) {
      order = rank[x] - rank[y];
    } else {
      order = x < y ? -1 : x > y ? 1 : 0;
    }
    return order * sortDirection || a - b;
  }

  function sortView() {
    if (sortColumn < 0) return;
    if (rank === null) {
      const keys = strings.map((s) => s.toLowerCase());
      const order = strings.map((_, i) => i);
      order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
      rank = new Int32Array(strings.length);
      order.forEach((s, place) => { rank[s] = place; });
    }
    view.sort(compare);
  }

  function row(i) {
    const r = rows[i];
    const tr = document.createElement("tr");
    const kind = strings[r[0]];
    tr.className = ["keep", "untag", "archive"].includes(kind) ? kind : "delete";
    for (let c = 0; c < 9; c++) {
      const td = document.createElement("td");
      td.textContent = text(r, c);
      if (c === 2) {
        td.textContent = r[2].slice(0, 19);
        td.title = r[2];
        td.className = "digest";
      } else if (c === 3) td.className = "tags";
      else if (NUMERIC[c]) td.className = "num";
      else if (c === 7) td.className = "status status-" + strings[r[7]].split(" ")[0];
      else if (c === 8) td.className = "reason";
      else if (c === 1) td.className = "repository";
      else if (c === 0 || c === 4) td.className = "nowrap";
      tr.appendChild(td);
    }
    return tr;
  }

  function showMore() {
    const end = Math.min(view.length, shown + PAGE);
    const fragment = document.createDocumentFragment();
    for (let k = shown; k < end; k++) fragment.appendChild(row(view[k]));
    body.appendChild(fragment);
    shown = end;
    const total = rows.length.toLocaleString("en-US");
    count.textContent = view.length === rows.length
      ? `Showing ${shown.toLocaleString("en-US")} of ${total} decisions`
      : `Showing ${shown.toLocaleString("en-US")} of ${view.length.toLocaleString("en-US")} matching (${total} in all)`;
    more.hidden = shown >= view.length;
    more.textContent = `Show ${Math.min(PAGE, view.length - shown).toLocaleString("en-US")} more`;
  }

  function refresh() {
    view = matching(filter.value);
    sortView();
    body.replaceChildren();
    shown = 0;
    showMore();
    table.dataset.matching = String(view.length);
  }

  headers.forEach((th, column) => {
    th.querySelector("button").addEventListener("click", () => {
      sortDirection = sortColumn === column ? -sortDirection : NUMERIC[column] ? -1 : 1;
      sortColumn = column;
      headers.forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", sortDirection > 0 ? "ascending" : "descending");
      refresh();
    });
  });
  let pending = 0;
  filter.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 120);
  });
  more.addEventListener("click", showMore);
  refresh();
  document.body.dataset.ready = "true";
})();
