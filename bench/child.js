'use strict';

/**
 * Plumbing shared by the benchmark's server processes (baseline-server.js, gateway-server.js).
 *
 * The child is started by bench/run.js with child_process.fork(), so it has an IPC channel:
 *   child  -> parent  { type: 'ready', port, info }            once listening
 *   child  -> parent  { type: 'fatal', error }                  on an uncaught error (then exits 1)
 *   parent -> child   { id, cmd: 'stats' | 'reset-peak' | 'stop' }
 *   child  -> parent  { id, ok: true, result } | { id, ok: false, error }
 *
 * RSS is sampled every 100 ms (process.memoryUsage().rss); `peakRss` is the maximum over the whole life of
 * the process, `phasePeakRss` the maximum since the last 'reset-peak' (the parent resets it before the
 * measured run).
 */

const http = require('node:http');
const { performance } = require('node:perf_hooks');

const SAMPLE_INTERVAL_MS = 100;

function errorText(error) {
  return error && error.stack ? error.stack : String(error);
}

/**
 * @param {object} options
 * @param {() => { app: import('koa'), info?: object, close?: () => void, extraStats?: () => object }} options.setup
 */
function runChild({ setup }) {
  if (typeof process.send !== 'function') {
    console.error('this script is started by bench/run.js (it needs an IPC channel)');
    process.exit(2);
  }

  const fatal = (error) => {
    try {
      process.send({ type: 'fatal', error: errorText(error) });
    } catch {
      // the channel may be gone already
    }
    console.error(errorText(error));
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  // The parent went away (crashed or was killed): do not linger.
  process.on('disconnect', () => process.exit(1));

  let peakRss = 0;
  let phasePeakRss = 0;
  let samples = 0;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    samples += 1;
    if (rss > peakRss) peakRss = rss;
    if (rss > phasePeakRss) phasePeakRss = rss;
    return rss;
  };
  sample();
  // Event-loop utilisation and CPU time since the last 'reset-peak': is the server saturated, and how much
  // of its time is in the kernel (system) rather than JavaScript (user)?
  let eluMark = performance.eventLoopUtilization();
  let cpuMark = process.cpuUsage();
  let wallMark = performance.now();
  const sampler = setInterval(sample, SAMPLE_INTERVAL_MS);

  const { app, info, close, extraStats } = setup();
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(sampler);
    server.close();
    if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
    try {
      if (close) close();
    } finally {
      // process.exit() still lets --cpu-prof write its profile.
      setImmediate(() => process.exit(0));
    }
  };

  process.on('message', (message) => {
    if (!message || typeof message !== 'object' || message.id === undefined) return;
    const reply = (result) => process.send({ id: message.id, ok: true, result });
    try {
      switch (message.cmd) {
        case 'stats': {
          const rssNow = sample();
          const memory = process.memoryUsage();
          const cpu = process.cpuUsage(cpuMark);
          reply({
            peakRss,
            phasePeakRss,
            rssNow,
            rssAtReady,
            phase: {
              wallMs: performance.now() - wallMark,
              eventLoopUtilization: performance.eventLoopUtilization(eluMark).utilization,
              userCpuMs: cpu.user / 1000,
              systemCpuMs: cpu.system / 1000,
            },
            heapUsed: memory.heapUsed,
            heapTotal: memory.heapTotal,
            external: memory.external,
            samples,
            ...(extraStats ? extraStats() : {}),
          });
          break;
        }
        case 'reset-peak':
          phasePeakRss = sample();
          eluMark = performance.eventLoopUtilization();
          cpuMark = process.cpuUsage();
          wallMark = performance.now();
          reply({ phasePeakRss });
          break;
        case 'stop':
          reply({ stopping: true });
          stop();
          break;
        default:
          process.send({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
      }
    } catch (error) {
      process.send({ id: message.id, ok: false, error: errorText(error) });
    }
  });

  server.on('error', fatal);
  let rssAtReady = 0;
  server.listen(0, '127.0.0.1', () => {
    rssAtReady = sample();
    process.send({ type: 'ready', port: server.address().port, info: info || {} });
  });
}

module.exports = { runChild };
