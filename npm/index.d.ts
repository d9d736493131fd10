/** The path of sentiment.so. */
export function getLoadablePath(): string;
/** Load the extension into a better-sqlite3 Database (anything with loadExtension(path)). */
export function load(db: { loadExtension(path: string): unknown }): void;
