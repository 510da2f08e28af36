#include <catch2/catch.hpp>

#include "compiler/ir/value.h"

using amlc::compiler::ir::Value;

TEST_CASE("values print canonical JSON with sorted keys", "[ir]") {
  Value map = Value::EmptyMap();
  map.Set("z", Value::Int(1));
  map.Set("a", Value::String("q\"uote\n"));
  map.Set("m", Value::Double(0.5));
  Value list = Value::EmptyList();
  list.Append(Value::Bool(true));
  list.Append(Value());
  map.Set("l", list);
  CHECK(map.ToJson() == R"({"a":"q\"uote\n","l":[true,null],"m":0.5,"z":1})");
  map.Set("z", Value::Double(1.0));  // replaces
  CHECK(map.Find("z")->ToJson() == "1.0");
  CHECK(Value::Double(0.1).ToJson() == "0.1");
}

TEST_CASE("references print as $ref objects", "[ir]") {
  CHECK(Value::Reference({"job/train", "outputs.model", false}).ToJson() ==
        R"({"$ref":"job/train#outputs.model"})");
  CHECK(Value::Reference({"compute/gpu", "", true}).ToJson() ==
        R"({"$ref":"compute/gpu","external":true})");
}
