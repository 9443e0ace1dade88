#include "one_collect/symbols/demangle.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

TEST(Demangle, Cxx) {
  EXPECT_EQ(demangle("_ZN7fixture6WidgetC2Ei"), "fixture::Widget::Widget(int)");
  EXPECT_EQ(demangle("_ZNKSt6vectorIiSaIiEE4sizeEv"),
            "std::vector<int, std::allocator<int> >::size() const");
  EXPECT_EQ(demangle("_Z5twiceIlET_S0_"), "long twice<long>(long)");
}

TEST(Demangle, PlainAndBrokenNamesPassThrough) {
  EXPECT_EQ(demangle("main"), "main");
  EXPECT_EQ(demangle("__libc_start_main"), "__libc_start_main");
  EXPECT_EQ(demangle("_Zgarbage!!"), "_Zgarbage!!");
  EXPECT_EQ(demangle("_R"), "_R");
  EXPECT_EQ(demangle(""), "");
}

TEST(Demangle, SymbolVersionSuffixIsKept) {
  EXPECT_EQ(demangle("_ZNSt8ios_base4InitC1Ev@@GLIBCXX_3.4"),
            "std::ios_base::Init::Init()@@GLIBCXX_3.4");
}

TEST(Demangle, RustLegacyDropsTheHash) {
  EXPECT_EQ(demangle("_ZN3std2io5stdio6_print17h0123456789abcdefE"), "std::io::stdio::_print");
  EXPECT_EQ(demangle("_ZN4core3ptr13drop_in_place17h4f8cd1a51d4e6a8dE"),
            "core::ptr::drop_in_place");
}

TEST(Demangle, RustV0) {
  EXPECT_EQ(demangle("_RNvCs1234_7mycrate3foo"), "mycrate::foo");
  EXPECT_EQ(demangle("_RINvNtC3std3mem8align_ofjEC3foo"), "std::mem::align_of::<usize>");
  EXPECT_EQ(demangle("_RNvMNtCs9ltgdHTiPiY_4core3stre3len"), "<str>::len");
}

}  // namespace
}  // namespace one_collect
