/** The drivers a scenario can name, by name. */
import { driverFor } from '../drivers/index.js';
import type { EnsembleDriver } from '../drivers/types.js';
import { httpLoadDriver } from '../load/http/index.js';
import { nativeLoadDriver } from '../load/native/index.js';
import type { LoadDriver } from '../load/types.js';
import type { EnsembleDriverName, LoadDriverName } from '../scenario/types.js';

export function ensembleDriverFor(name: EnsembleDriverName): EnsembleDriver {
  return driverFor(name);
}

export function loadDriverFor(name: LoadDriverName): LoadDriver {
  switch (name) {
    case 'native':
      return nativeLoadDriver;
    case 'http':
      return httpLoadDriver;
  }
}
