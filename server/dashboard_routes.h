#ifndef AMLC_SERVER_DASHBOARD_ROUTES_H_
#define AMLC_SERVER_DASHBOARD_ROUTES_H_

// The dashboard (web/): the files Vite built, served at / by `amlc server`.
// They hold no workspace data (the pages read /api/v1 with the token the
// user signs in with), so they are answered without a token. The files are
// read once when the server starts: nothing is fetched or re-read later.

#include <map>
#include <string>
#include <vector>

#include "server/api_route.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace amlc::server {

/// Where the built dashboard is: $AMLC_DASHBOARD_DIR, else `dashboard/`
/// beside the amlc binary (the build tree: build/cli/dashboard), else
/// PREFIX/share/amlc/dashboard (an installed amlc). "" when none holds an index.html.
std::string DashboardDir();

/// One built file: its bytes and its Content-Type.
struct DashboardFile {
  std::string body;
  std::string content_type;
};

/// The files of `dir` by URL path ("/" is index.html, "/assets/index-3f2a.js");
/// empty when `dir` is "" or unreadable.
std::map<std::string, DashboardFile> LoadDashboard(const std::string& dir);

/// The API routes the pages need that the CLI does not read (a run's
/// snapshot file list); AllRoutes() includes them.
std::vector<ApiRoute> DashboardApiRoutes();

/// Registers GET / and GET /assets/NAME on `server`. Without a built
/// dashboard, / answers 404 with what to do (npm ci in web/, rebuild).
void RegisterDashboard(httplib::Server& server, std::map<std::string, DashboardFile> files);

}  // namespace amlc::server

#endif  // AMLC_SERVER_DASHBOARD_ROUTES_H_
