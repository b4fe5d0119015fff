'use strict';

/** Baseline for `npm run bench`: a bare Koa app, one JSON route, nothing read, nothing stored. */

const Koa = require('koa');
const { runChild } = require('./child');

runChild({
  setup() {
    const app = new Koa();
    app.use((ctx) => {
      if (ctx.method === 'POST' && ctx.path === '/') {
        ctx.body = { success: true };
      }
    });
    return { app, info: { koa: require('koa/package.json').version } };
  },
});
