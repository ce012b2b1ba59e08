#!/usr/bin/env -S node --import tsx
import { runShoal } from '../shared/cli/program.ts';

process.exitCode = await runShoal(process.argv.slice(2));
