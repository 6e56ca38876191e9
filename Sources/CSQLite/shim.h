#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro Swift cannot import; this constant stands in for it.
static const sqlite3_destructor_type reconcile_sqlite_transient = (sqlite3_destructor_type)-1;
