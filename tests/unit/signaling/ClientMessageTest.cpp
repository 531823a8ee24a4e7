#include <gtest/gtest.h>

#include "signaling/ClientMessage.hpp"

namespace rollcall::signaling {
namespace {

TEST(ClientMessage, ParsesKnownTypesAndRef) {
    ParseFailure failure;
    auto m = parse_client_message(R"({"type":"join","token":"t","id":3})", failure);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, ClientMessageType::join);
    EXPECT_EQ(m->ref, 3);
    EXPECT_EQ(m->body["token"], "t");
}

TEST(ClientMessage, KeepsUnknownTypeNames) {
    ParseFailure failure;
    auto m = parse_client_message(R"({"type":"dance"})", failure);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, ClientMessageType::unknown);
    EXPECT_EQ(m->type_name, "dance");
}

TEST(ClientMessage, RefusesWhatIsNotAnObjectWithAType) {
    ParseFailure failure;
    for (const char* text :
         {"", "null", "[]", "\"join\"", "{}", R"({"type":1})", "{\"type\":\"join\"", "\xff\xfe"}) {
        EXPECT_FALSE(parse_client_message(text, failure)) << text;
        EXPECT_EQ(failure.code, "malformed_message");
    }
}

TEST(ClientMessage, RefusesBadIds) {
    ParseFailure failure;
    EXPECT_FALSE(parse_client_message(R"({"type":"ping","id":{"a":1}})", failure));
    EXPECT_FALSE(parse_client_message(R"({"type":"ping","id":1.5})", failure));
    EXPECT_FALSE(
        parse_client_message(R"({"type":"ping","id":")" + std::string(65, 'x') + "\"}", failure));
}

TEST(ClientMessage, MeasuresDepthOutsideStrings) {
    EXPECT_TRUE(json_depth_within(R"({"a":[{"b":1}]})", 3));
    EXPECT_FALSE(json_depth_within(R"({"a":[{"b":1}]})", 2));
    EXPECT_TRUE(json_depth_within(R"({"a":"[[[[[[[[\"[["})", 1));
}

TEST(ClientMessage, SerialisesInvalidUtf8WithoutThrowing) {
    nlohmann::json m = {{"type", "error"}, {"message", std::string("bad \xff byte")}};
    EXPECT_NO_THROW(to_text(m));
}

}  // namespace
}  // namespace rollcall::signaling
