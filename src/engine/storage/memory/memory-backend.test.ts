import { describeStorageConformance } from '../testing/conformance.js';
import { MemoryBackend } from './memory-backend.js';

describeStorageConformance('memory', async () => ({ backend: new MemoryBackend() }));
