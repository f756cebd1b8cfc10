/** Installs resolve-hooks.ts (`node --import ./src/register.ts`): see there. */
import { register } from 'node:module'

register('./resolve-hooks.ts', import.meta.url)
