type Row = Record<string, unknown>;

/** One line, whatever the value: a text's line breaks are shown as \n so that columns stay aligned. */
function cell(value: unknown): string {
	if (value === null || value === undefined) return '-';
	if (typeof value === 'object') return JSON.stringify(value);
	return String(value).replace(/\r?\n/g, '\\n');
}

/** Plain aligned columns for people; scripts use --json. */
export function table(rows: Row[], columns: string[]): string {
	if (rows.length === 0) return '(none)\n';
	const cells = rows.map((row) => columns.map((column) => cell(row[column])));
	const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i].length)));
	const render = (line: string[]) =>
		line
			.map((text, i) => text.padEnd(widths[i]))
			.join('  ')
			.trimEnd();
	return `${[render(columns), ...cells.map(render)].join('\n')}\n`;
}

export function record(row: Row): string {
	const width = Math.max(...Object.keys(row).map((key) => key.length));
	return `${Object.entries(row)
		.map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`)
		.join('\n')}\n`;
}
