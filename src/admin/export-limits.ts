/**
 * The longest range one log export covers (GET /admin/api/log/export): a quarter, so an auditor
 * can take any month in one go. The API enforces it; the admin page checks it before asking.
 */
export const MAX_EXPORT_DAYS = 93;
