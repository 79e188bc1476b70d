// Not a test: a program for terminal-restore.test.ts. It opens the blessed screen as `shoal tui`
// does, paints, and then crashes with an uncaught exception (or waits for a signal), so the test
// can check that the terminal is given back either way.
import { openBlessedScreen } from '../../src/tui/blessed-screen.js';

const screen = openBlessedScreen();
screen.paint([{ segments: [{ text: 'crash fixture running', style: 'title' }] }]);
if (process.argv[2] === 'throw') {
  setTimeout(() => {
    throw new Error('boom from the crash fixture');
  }, 500);
} else {
  setInterval(() => undefined, 1_000);
}
