#ifndef AMLC_CLI_CREDENTIALS_H_
#define AMLC_CLI_CREDENTIALS_H_

// The credentials file `amlc login` writes: one API token per workspace
// server, in $XDG_CONFIG_HOME/amlc/credentials (default ~/.config/amlc/),
// mode 0600. A token is a password: a file group or others can read is
// refused rather than used.

#include <optional>
#include <string>

#include "base/status.h"

namespace amlc::cli {

/// Where the credentials file is ($AMLC_CREDENTIALS_FILE overrides, for tests and CI).
std::string CredentialsPath();

/// The token saved for `server_url`; nullopt when none is (or no file
/// exists). kFailedPrecondition naming the file and the chmod to run when
/// group or others may read it; kInvalidArgument when it is not ours.
StatusOr<std::optional<std::string>> SavedToken(const std::string& server_url);

/// Saves `token` for `server_url` (replacing an earlier one), creating the
/// folder (0700) and the file (0600); the file is replaced atomically.
Status SaveToken(const std::string& server_url, const std::string& token);

/// Forgets `server_url`'s token, or every token when it is "". Whether one was forgotten.
StatusOr<bool> ForgetToken(const std::string& server_url);

}  // namespace amlc::cli

#endif  // AMLC_CLI_CREDENTIALS_H_
