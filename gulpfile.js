/**
 * Copies the icons that node and credential descriptions reference (`file:…`) into dist/,
 * keeping their paths, since tsc only emits .ts and .json. Run by `npm run build:nodes`.
 */
const { src, dest, task } = require('gulp');

function buildIcons() {
	return src(['{nodes,credentials,icons}/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('dist'));
}

task('build:icons', buildIcons);
