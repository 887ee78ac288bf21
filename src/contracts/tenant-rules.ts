import type { CustomerUpdateRequest, ValidationFailure } from './customer-update-requested.ts';
import { ERROR_CODES } from './error-codes.ts';

/** A company's configuration as the rules need it (SPEC §3: task types per company). */
export interface TenantConfiguration {
  tenantId: string;
  taskTypes: readonly string[];
  lendingApiUrl?: string | null;
}

/** SPEC §3: an unknown tenant, or a task type the tenant does not allow, is dead-lettered. */
export function checkTenantRules(
  request: Pick<CustomerUpdateRequest, 'taskType'>,
  tenant: TenantConfiguration | undefined,
): ValidationFailure | undefined {
  if (tenant === undefined) {
    return {
      code: ERROR_CODES.tenantUnknown,
      message: 'tenantId is not a configured tenant',
      path: 'tenantId',
    };
  }
  if (!tenant.taskTypes.includes(request.taskType)) {
    return {
      code: ERROR_CODES.tenantTaskTypeNotAllowed,
      message: 'data.taskType is not one of the task types configured for this tenant',
      path: 'data.taskType',
    };
  }
  return undefined;
}
