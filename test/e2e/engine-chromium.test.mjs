import { engineSuite } from './cross-engine.mjs';

engineSuite('chromium');
