// The interactive table of every paper of a topic page (helpers/tables.py writes its data).
//
// The page carries the rows as compact JSON (`<table id>-rows`: field names, then one array per
// paper, every text already HTML-escaped in Python) and the category names. Abstracts, full author
// lists and the reasons of each score are in `<table id>-details`: inline in a notebook run by
// hand; on a site, a file beside the page (`data-src`, which the build fills in) fetched the first
// time a reader opens a row or uses the search box. Until then the search finds a paper by id,
// title, first authors and categories; once they arrive, by any abstract word and any author too.
//
// Every string this script puts into markup comes from that JSON, escaped in Python, or is one of
// its own; links are built only from ids of arXiv's form (checked in Python).

const SHOWN_AUTHORS = 3;

// DataTables from the site's shared copy of the library (`data-library`), or from the copy a
// notebook run by hand carries in its init_tables output (itables' offline mode).
async function library(table) {
    if (table.dataset.library) return import(new URL(table.dataset.library, document.baseURI).href);
    const name = table.dataset.libraryGlobal;
    if (!window[name]) await new Promise((ready) => window.addEventListener(table.dataset.libraryReady, ready, {once: true}));
    return window[name];
}

// The details, parsed or fetched once; a failed fetch may be tried again.
function detailsSource(block) {
    let loading = null;
    return () => loading || (loading = (block.dataset.src
        ? fetch(new URL(block.dataset.src, document.baseURI)).then((response) => {
            if (!response.ok) throw new Error(`${block.dataset.src}: HTTP ${response.status}`);
            return response.json();
        })
        : Promise.resolve().then(() => JSON.parse(block.textContent))
    ).catch((error) => {
        loading = null;
        throw error;
    }));
}

async function setUp(table) {
    const data = JSON.parse(document.getElementById(`${table.id}-rows`).textContent);
    const at = Object.fromEntries(data.fields.map((name, index) => [name, index]));
    const load = detailsSource(document.getElementById(`${table.id}-details`));
    const problem = document.getElementById(`${table.id}-problem`);
    const {default: DataTable} = await library(table);
    let details = null;     // {abstracts, authors, why}, row by row, once loaded
    // Each row's search text is made when a search first needs it: DataTables makes every row's at
    // its first draw otherwise, the largest part of a 10,000-row table's start.
    let searching = false;
    const opened = new Set();  // rows whose details a reader opened: they stay open when redrawn

    const categories = (row) => (row[at.categories] ? row[at.categories].split(' ') : []);
    const named = (code) => (data.names[code] ? `${code} (${data.names[code]})` : code);
    const allAuthors = (row, index) => (details ? details.authors[index] : row[at.authors]);

    function titleCell(title, type, row, meta) {
        const text = row[at.text] ?? title;  // the plain reading, where it differs from the HTML
        if (type === 'sort' || type === 'type') return text;
        const id = row[at.id];
        if (type === 'filter') {
            if (!searching) return '';
            return [id, text, allAuthors(row, meta.row).join(' '), details ? details.abstracts[meta.row] : '',
                    categories(row).map(named).join(' '), row[at.submitted], row[at.score].toFixed(1)].join(' ');
        }
        const shown = title || '(untitled)';
        const more = details
            ? `<p class="paper-why">${details.why[meta.row]}</p>`
              + (id ? `<a class="pdf" href="${data.pdf}${id}">PDF</a>` : '')
              + `<p class="paper-authors">${details.authors[meta.row].join(', ')}</p>`
              + `<p class="paper-categories">${categories(row).map(named).join(', ')}</p>`
              + `<p class="paper-abstract">${details.abstracts[meta.row]}</p>`
            : '<p class="paper-loading">Loading the abstract and authors…</p>';
        return (id ? `<a href="${data.abs}${id}">${shown}</a>` : shown)
            + `<details class="paper-more" data-row="${meta.row}"${opened.has(meta.row) ? ' open' : ''}>`
            + `<summary>why, abstract, authors, PDF</summary>${more}</details>`;
    }

    // The first authors and how many more; every author for the search; the first to sort.
    function authorsCell(names, type, row) {
        if (type === 'sort' || type === 'type') return names[0] || '';
        if (type !== 'display') return names.join(' ');
        const more = row[at.authors_count] - Math.min(names.length, SHOWN_AUTHORS);
        return names.slice(0, SHOWN_AUTHORS).join(', ') + (more > 0 ? ` +${more} more` : '');
    }

    // Each column's type given, so DataTables does not detect them through every row (seconds for 50,000).
    // The title's search text holds the whole row's (every author and the abstract once the details are here).
    const columns = [
        {title: 'Title', data: at.title, render: titleCell, type: 'string'},
        {title: 'Authors', data: at.authors, render: authorsCell, className: 'wide-only', searchable: false, type: 'string'},
        {title: 'Submitted', data: at.submitted, className: 'dt-nowrap', searchable: false, type: 'date'},
        {title: 'Category', data: at.category, className: 'dt-nowrap wide-only', searchable: false, type: 'string'},
        // Highest first on the first click; ties newest first.
        {title: 'Score', data: at.score, className: 'dt-nowrap wide-only', searchable: false, type: 'num',
         orderSequence: ['desc', 'asc'], orderData: [4, 2],
         render: (score, type) => (type === 'display' ? score.toFixed(1) : score)},
    ];
    const api = new DataTable(table, {
        data: data.rows,
        columns,
        deferRender: true,   // rows are built when shown, so a 50,000-paper table starts at once
        autoWidth: false,    // the browser lays the columns out, so they follow the screen's width
        processing: true,    // shown while the details load for a search
        order: [],           // the page's order: newest first
        pageLength: 25,
        lengthMenu: [10, 25, 100, 500],
        language: {searchPlaceholder: 'title, abstract, author, category, arXiv id'},
    });

    // From the first search on, every row has its search text (made at the next draw).
    function startSearching() {
        if (searching) return;
        searching = true;
        api.rows().invalidate('data');
    }

    // Once the details are here: every row's search text and the shown rows again (the open ones stay open).
    function withDetails() {
        if (details) return Promise.resolve();
        api.processing(true);
        return load().then((loaded) => {
            details = loaded;
            if (problem) problem.hidden = true;
            api.rows().invalidate('data').draw(false);
        }, (error) => {
            if (problem) problem.hidden = false;
            console.warn('papers table: details not loaded:', error);
        }).finally(() => api.processing(false));
    }

    table.addEventListener('toggle', (event) => {  // `toggle` does not bubble: caught on its way down
        const fold = event.target;
        if (!(fold instanceof HTMLDetailsElement) || !fold.classList.contains('paper-more') || !fold.isConnected) return;
        const row = Number(fold.dataset.row);
        if (fold.open) opened.add(row); else opened.delete(row);
        if (fold.open) withDetails();
    }, true);
    const searchBox = table.closest('.dt-container')?.querySelector('.dt-search input');
    ['focus', 'input'].forEach((name) => searchBox?.addEventListener(name, () => {
        startSearching();
        withDetails();
    }));

    wireFilters(table, api, at, DataTable, startSearching);
}

// The date, category and "new since the last build" filters (tables.filters writes them), and an
// address ending in #paper-<id> (the site search's entry of a paper), which shows that paper.
function wireFilters(table, api, at, DataTable, startSearching) {
    const field = (name) => document.getElementById(`${table.id}-${name}`);
    const from = field('from'), to = field('to'), category = field('category'), fresh = field('new');
    if (from && to && category) {
        DataTable.ext.search.push((settings, searched, index, row) => {
            if (settings.nTable !== table) return true;
            const day = row[at.submitted];
            if (from.value && day < from.value) return false;
            if (to.value && day > to.value) return false;
            if (fresh && fresh.checked && !row[at.new]) return false;
            return !category.value || (row[at.categories] || '').split(' ').includes(category.value);
        });
        [from, to, category, fresh].forEach((input) => input && input.addEventListener('input', () => api.draw()));
    }
    const showWanted = () => {
        const wanted = /^#paper-(.+)$/.exec(location.hash);
        if (!wanted) return;
        startSearching();
        api.search(decodeURIComponent(wanted[1])).draw();
        table.closest('.dt-container').scrollIntoView();  // the search box too: why one row
    };
    window.addEventListener('hashchange', showWanted);
    showWanted();
}

document.querySelectorAll('table.papers-table:not(.dataTable)').forEach((table) => {
    setUp(table).catch((error) => console.error('papers table:', error));
});
