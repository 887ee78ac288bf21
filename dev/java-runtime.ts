import { join } from 'node:path';
import { DevstackError } from './devstack-error.ts';
import { findExecutable } from './find-executable.ts';
import { runCommand } from './run-command.ts';

/**
 * The `java` of JAVA_HOME or PATH, checked to be Java `minimumMajor`+. `service` and
 * `alternative` make the error say what needed it and how to do without (a variable to set).
 */
export async function findJava(need: {
  service: string;
  alternative: string;
  minimumMajor?: number;
}): Promise<string> {
  const minimum = need.minimumMajor ?? 17;
  const javaHome = process.env.JAVA_HOME;
  const java = await findExecutable('java', javaHome ? [join(javaHome, 'bin')] : []);
  const advice = `install a JDK (e.g. apt-get install openjdk-17-jre-headless) or ${need.alternative}`;
  if (java === undefined) {
    throw new DevstackError(
      'JAVA_MISSING',
      `Java ${minimum}+ is needed to run the ${need.service}: ${advice}`,
    );
  }
  const { stderr } = await runCommand(java, ['-version']);
  const major = javaMajorVersion(stderr);
  if (major !== undefined && major < minimum) {
    throw new DevstackError(
      'JAVA_MISSING',
      `Java ${minimum}+ is needed to run the ${need.service}, but ${java} is Java ${major}: ${advice}`,
    );
  }
  return java;
}

/** `version "17.0.15"` -> 17; `version "1.8.0_392"` -> 8. */
function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (match === null) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}
