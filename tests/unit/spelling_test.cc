#include <catch2/catch.hpp>

#include "compiler/sema/binder.h"
#include "compiler/support/spelling.h"

using namespace amlc::compiler;

TEST_CASE("did-you-mean picks the closest name within a few edits", "[support]") {
  std::vector<std::string> fields = {"command", "compute", "code", "environment"};
  CHECK(ClosestMatch("comand", fields) == "command");
  CHECK(ClosestMatch("enviroment", fields) == "environment");
  CHECK(ClosestMatch("xyz", fields) == "");
  CHECK(DidYouMean("Compute", fields) == " (did you mean 'compute'?)");
  CHECK(EditDistance("kitten", "sitting", 5) == 3);
}

TEST_CASE("plain scalars are typed as YAML 1.2 core reads them", "[sema]") {
  CHECK(sema::InferScalar("1").type() == ir::Value::Type::kInt);
  CHECK(sema::InferScalar("-2.5e3").type() == ir::Value::Type::kDouble);
  CHECK(sema::InferScalar("True").as_bool());
  CHECK(sema::InferScalar("~").is_null());
  CHECK(sema::InferScalar("1.2.3").is_string());
  CHECK(sema::InferScalar("99999999999999999999").type() == ir::Value::Type::kDouble);
}
