'use strict';

/**
 * Plumbing of the fan-out benchmark's child processes (fanout-gateway.js, fanout-receiver.js), the same IPC
 * protocol as bench/child.js plus arguments and asynchronous commands:
 *   child  -> parent  { type: 'ready', port, info }            once set up
 *   child  -> parent  { type: 'fatal', error }                  on an uncaught error (then exits 1)
 *   parent -> child   { id, cmd, args }
 *   child  -> parent  { id, ok: true, result } | { id, ok: false, error }
 *
 * Built in: 'stats' (RSS peak, event-loop utilisation and CPU since the last 'reset-peak', plus the child's
 * own `stats()`), 'reset-peak' and 'stop'. Everything else goes to `commands[cmd](args)`, which may return a
 * promise.
 */

const { performance } = require('node:perf_hooks');

const SAMPLE_INTERVAL_MS = 100;

function errorText(error) {
  return error && error.stack ? error.stack : String(error);
}

/**
 * @param {object} options
 * @param {() => Promise<{ port?: number, info?: object, commands?: Record<string, (args: any) => any>,
 *   stats?: () => object, close?: () => void }>} options.setup
 */
function runIpcChild({ setup }) {
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
  process.on('disconnect', () => process.exit(1));

  let peakRss = 0;
  let phasePeakRss = 0;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    if (rss > peakRss) peakRss = rss;
    if (rss > phasePeakRss) phasePeakRss = rss;
    return rss;
  };
  sample();
  let eluMark = performance.eventLoopUtilization();
  let cpuMark = process.cpuUsage();
  let wallMark = performance.now();
  const sampler = setInterval(sample, SAMPLE_INTERVAL_MS);
  sampler.unref();

  let child;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(sampler);
    try {
      if (child && child.close) child.close();
    } finally {
      // process.exit() still lets --cpu-prof write its profile.
      setImmediate(() => process.exit(0));
    }
  };

  process.on('message', (message) => {
    if (!message || typeof message !== 'object' || message.id === undefined) return;
    const reply = (result) => process.send({ id: message.id, ok: true, result });
    const refuse = (error) => process.send({ id: message.id, ok: false, error: errorText(error) });
    try {
      switch (message.cmd) {
        case 'stats': {
          const cpu = process.cpuUsage(cpuMark);
          reply({
            peakRss,
            phasePeakRss,
            rssNow: sample(),
            phase: {
              wallMs: performance.now() - wallMark,
              eventLoopUtilization: performance.eventLoopUtilization(eluMark).utilization,
              userCpuMs: cpu.user / 1000,
              systemCpuMs: cpu.system / 1000,
            },
            ...(child && child.stats ? child.stats() : {}),
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
        default: {
          const handler = child && child.commands && child.commands[message.cmd];
          if (!handler) {
            refuse(new Error(`unknown command ${message.cmd}`));
            break;
          }
          Promise.resolve()
            .then(() => handler(message.args || {}))
            .then(reply, refuse);
        }
      }
    } catch (error) {
      refuse(error);
    }
  });

  Promise.resolve()
    .then(setup)
    .then((ready) => {
      child = ready;
      process.send({ type: 'ready', port: ready.port, info: ready.info || {} });
    }, fatal);
}

/** p-quantile (0..1) of an ascending array, nearest rank. */
function quantile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

module.exports = { runIpcChild, quantile };
