#ifndef AMLC_BASE_FILE_TAIL_H_
#define AMLC_BASE_FILE_TAIL_H_

#include <string>

namespace amlc {

/// The last `count` lines of a text file, for error messages (a failed run's
/// or replica's log): read from its last 4 KiB only, since a log may be
/// gigabytes; trailing newlines dropped; "" when it cannot be read.
std::string LastLines(const std::string& path, int count);

}  // namespace amlc

#endif  // AMLC_BASE_FILE_TAIL_H_
