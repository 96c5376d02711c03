/**
 * The preload of every FireBackup window. It runs sandboxed, so it is bundled into one
 * CommonJS file (dist/preload/index.cjs, scripts/build-electron.mjs) whose only require is
 * `electron`. It exposes exactly the contract (./bridge.ts) and nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL } from '../shared/api/bridge.js';
import { createBridge } from './bridge.js';

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, createBridge(ipcRenderer));
