/** `--set key=value` (repeatable): zoo.cfg settings for every server, shared by the commands that start servers. */
import { EnsembleError, parseOverride } from '../../harness/ensemble/index.js';
import { UsageError, type OptionSpec, type ParsedArgs } from '../registry.js';

export const SET_OPTION: OptionSpec = { type: 'string', multiple: true, valueName: '<key=value>', description: 'a zoo.cfg setting for every server, e.g. snapCount=10000' };

/** The --set values as zoo.cfg overrides (a later one wins); one that is not key=value is a usage error. */
export function zooCfgOverrides(args: ParsedArgs, help: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const text of args.strings('set')) {
    try {
      const [key, value] = parseOverride(text);
      config[key] = value;
    } catch (err) {
      if (err instanceof EnsembleError) throw new UsageError(`--set ${err.message}`, help);
      throw err;
    }
  }
  return config;
}
