// `npm run experiments -- [NAME] [--json] [--seed N] [--quick]`: the experiments as a script
// (the same as `shoal sim experiment …`).
import { experimentsMain } from './main.js';

process.exitCode = experimentsMain(process.argv.slice(2));
