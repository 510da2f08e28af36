// Job inputs given by URL: downloaded once into the workspace's URL cache,
// revalidated with the server's ETag, their digest in the run key; Azure
// storage schemes refused with what to do. The files are served by a local
// HTTP server (tests/servers/file_server.py) started by the test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/runtime/file_server.h"
#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

void WriteJob(SpecDir& dir, const std::string& type, const std::string& path) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("src/read.sh", "if [ -d \"$1\" ]; then cat \"$1\"/*; else cat \"$1\"; fi\n");
  dir.Write("job.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "name: read\ncode: src\ncompute: azureml:local\ncommand: sh read.sh ${{inputs.data}}\n"
            "inputs:\n  data:\n    type: " + type + "\n    path: " + path + "\n");
}

std::string LastRunLog(const SpecDir& dir) {
  std::string id, logs;
  Run(Amlc("runs list --json --workspace " + dir.str() + "/.amlc") +
          " | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"id\"])'",
      &id);
  Run(Amlc("runs logs " + id.substr(0, id.find('\n')) + " --workspace " + dir.str() + "/.amlc"), &logs);
  return logs;
}

int Count(const std::string& text, const std::string& what) {
  int count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("a URL input is downloaded once, revalidated, and its content is in the run key", "[apply][url-input]") {
  SpecDir dir;
  FileServer server(dir);
  dir.Write("served/diabetes.csv", "age,bmi\n59,32.1\n");
  WriteJob(dir, "uri_file", server.url("diabetes.csv"));
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(LastRunLog(dir).find("59,32.1") != std::string::npos);
  CHECK(Count(server.log(), " 200\n") == 1);  // downloaded once for plan, apply and run

  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  CHECK(Count(server.log(), " 200\n") == 1);
  CHECK(Count(server.log(), " 304\n") >= 1);  // revalidated, not downloaded again

  dir.Write("served/diabetes.csv", "age,bmi\n48,21.6\n");
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("input 'data' changed: the contents of " + server.url("diabetes.csv")) != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(LastRunLog(dir).find("48,21.6") != std::string::npos);
}

TEST_CASE("a uri_folder URL arrives as a folder holding the file", "[apply][url-input]") {
  SpecDir dir;
  FileServer server(dir);
  dir.Write("served/part-0.csv", "x\n7\n");
  WriteJob(dir, "uri_folder", server.url("part-0.csv"));
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(LastRunLog(dir).find("x\n7") != std::string::npos);
}

TEST_CASE("Azure storage URLs and a missing file are refused with what to do", "[apply][url-input]") {
  SpecDir dir;
  FileServer server(dir);
  std::string out;
  for (const char* url : {"wasbs://data@account.blob.core.windows.net/diabetes.csv",
                          "abfss://data@account.dfs.core.windows.net/diabetes.csv"}) {
    WriteJob(dir, "uri_file", url);
    CHECK(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) != 0);
    CHECK(out.find("is Azure storage, which needs Azure credentials amlc does not have; give an https:// URL") !=
          std::string::npos);
  }
  WriteJob(dir, "uri_file", "http://example.com/diabetes.csv");
  CHECK(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) != 0);
  CHECK(out.find("plain http:// is accepted only from this machine") != std::string::npos);
  WriteJob(dir, "uri_file", server.url("absent.csv"));
  CHECK(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) != 0);
  CHECK(out.find("input 'data': downloading " + server.url("absent.csv") + ": HTTP 404") != std::string::npos);
}

TEST_CASE("AMLC_URL_MIRROR fetches a spec's URL, Azure storage included, from a mirror", "[apply][url-input]") {
  SpecDir dir;
  FileServer server(dir);
  dir.Write("served/datasets/iris.csv", "sepal_length\n5.1\n");
  WriteJob(dir, "uri_file", "wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv");
  std::string mirror = "AMLC_URL_MIRROR='https://example.com/=https://example.org/ "
                       "wasbs://datasets@azuremlexamples.blob.core.windows.net/=" + server.url("datasets/") + "' ";
  std::string out;
  int status = Run(mirror + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(LastRunLog(dir).find("5.1") != std::string::npos);
  CHECK(server.log().find("GET /datasets/iris.csv") != std::string::npos);
  // The spec's URL is what the plan names; a missing file names both.
  WriteJob(dir, "uri_file", "https://example.com/absent.csv");
  CHECK(Run("AMLC_URL_MIRROR='https://example.com/=" + server.url("") + "' " + Amlc("plan " + dir.str() + " 2>&1"),
            &out) != 0);
  CHECK(out.find("downloading " + server.url("absent.csv") + " (the mirror of https://example.com/absent.csv "
                 "in $AMLC_URL_MIRROR): HTTP 404") != std::string::npos);
  CHECK(Run("AMLC_URL_MIRROR='https://example.com/' " + Amlc("plan " + dir.str() + " 2>&1"), &out) != 0);
  CHECK(out.find("AMLC_URL_MIRROR: entry 'https://example.com/' has no '='") != std::string::npos);
}
