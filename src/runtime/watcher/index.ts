// runtime/watcher: the controller that opens schedule windows, re-decides them as evidence changes and fires each
// window's trigger at most once, across replicas (lease + fence) and restarts (window records + run keys).
export * from './leadership.js';
export * from './wake-queue.js';
export * from './watcher.js';
