// Rebuilds the site's shared table library from the exact versions of package-lock.json
// (`make table-library`, or `npm ci && npm run build` here): ../assets/datatables.js and .css, and
// ../assets/datatables.LICENSE.txt, the licences of what the two files hold. The same inputs give the same bytes.
import {readFileSync, writeFileSync} from 'node:fs';
import {build} from 'esbuild';

const common = {bundle: true, minify: true, legalComments: 'eof', logLevel: 'warning'};
await build({...common, entryPoints: ['index.mjs'], format: 'esm', outfile: '../assets/datatables.js'});
await build({...common, entryPoints: ['index.css'], outfile: '../assets/datatables.css'});

const licence = (name, file) => {
    const {version} = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8'));
    return `${name} ${version}\n\n${readFileSync(`node_modules/${name}/${file}`, 'utf8').trim()}\n`;
};
writeFileSync('../assets/datatables.LICENSE.txt', [
    'The licences of datatables.js and datatables.css (built by helpers/table-library/build.mjs from these packages).\n',
    licence('datatables.net', 'License.txt'),
    licence('datatables.net-dt', 'License.txt'),
    licence('jquery', 'LICENSE.txt'),
].join('\n'));
