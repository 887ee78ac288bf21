import { z } from 'zod';

/** An environment variable that says yes or no. */
export const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((text) => text === 'true' || text === '1' || text === 'yes');
