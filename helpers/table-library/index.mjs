// The entry of the site's shared table library: DataTables with its default styling (and jQuery,
// which it imports), one ES module whose default export papers-table.js uses.
export {default} from 'datatables.net-dt';
