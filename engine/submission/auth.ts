/**
 * Who may submit: a user of the admin side, found by API key (`Store.userByApiKey` with admin's
 * hash). Submission only needs this narrow seam, so it does not depend on how keys are stored.
 * AUTH PLAIN/LOGIN: the password is the API key; the username is informational.
 */
export interface Submitter {
  /** The user's id: the owner of each message it submits (stats, scoping, suppression list). */
  id: number;
  email: string;
}

export type VerifyCredentials = (username: string, apiKey: string) => Submitter | null;
