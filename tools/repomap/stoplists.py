"""Names whose references almost always mean the language's built-ins, not the repository's code.

Without these, `super()` in every Python class makes a method that happens to be called `super`
the most "referenced" definition in django, and `", ".join(...)` crowns a template filter named
`join`. Plain calls and types are checked against BUILTINS, member calls (`x.join()`) against
MEMBERS. Changing a list changes extracted tags: bump cache.FORMAT.
"""
from __future__ import annotations

_PY_BUILTINS = """
abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod
compile complex delattr dict dir divmod enumerate eval exec filter float format frozenset
getattr globals hasattr hash help hex id input int isinstance issubclass iter len list locals
map max memoryview min next object oct open ord pow print property range repr reversed round
set setattr slice sorted staticmethod str sum super tuple type vars zip __import__
Exception BaseException ValueError TypeError KeyError IndexError AttributeError RuntimeError
NotImplementedError StopIteration OSError IOError ImportError AssertionError LookupError
ZeroDivisionError UnicodeDecodeError UnicodeEncodeError UnicodeError FileNotFoundError
PermissionError TimeoutError OverflowError ArithmeticError RecursionError SystemExit
KeyboardInterrupt GeneratorExit StopAsyncIteration Warning DeprecationWarning UserWarning
RuntimeWarning PendingDeprecationWarning SyntaxError NameError EOFError MemoryError
ConnectionError ProcessLookupError ChildProcessError BrokenPipeError InterruptedError
IsADirectoryError NotADirectoryError FileExistsError BlockingIOError
Optional Union Any List Dict Set Tuple Callable Iterable Iterator Sequence Mapping Type
"""
_PY_MEMBERS = """
join split rsplit strip lstrip rstrip lower upper title replace startswith endswith format
encode decode find rfind index count splitlines partition rpartition isdigit isalpha isspace
zfill ljust rjust center casefold removeprefix removesuffix
append extend insert pop remove sort reverse copy clear
get items keys values setdefault update popitem fromkeys
add discard union intersection difference issubset issuperset
read write readline readlines close flush seek tell
"""
_JS_BUILTINS = """
require parseInt parseFloat isNaN isFinite setTimeout setInterval clearTimeout clearInterval
Number String Boolean Array Object Promise Symbol Error TypeError RangeError Date RegExp Map
Set WeakMap WeakSet JSON Math Function Proxy Reflect BigInt Intl URL Blob Event
Record Partial Readonly Pick Omit Required ReturnType Exclude Extract NonNullable Awaited
"""
_JS_MEMBERS = """
push pop shift unshift map filter forEach reduce join split slice splice indexOf includes
concat then catch finally toString replace trim keys values entries hasOwnProperty call apply
bind log error warn info debug get set has add delete test exec match sort find findIndex some
every toLowerCase toUpperCase substring substr charAt startsWith endsWith assign create
stringify parse resolve reject addEventListener removeEventListener querySelector
querySelectorAll getElementById createElement appendChild setAttribute getAttribute
preventDefault stopPropagation isArray from of now floor ceil round max min abs random
"""
_GO_BUILTINS = """
len cap make new append copy delete panic recover print println close min max clear complex
real imag error string bool byte rune int int8 int16 int32 int64 uint uint8 uint16 uint32
uint64 uintptr float32 float64 complex64 complex128 any comparable
"""
_GO_MEMBERS = "Error String Errorf Sprintf Printf Println Fprintf Sprint"
_RUST_BUILTINS = """
Self Some Ok Err Box Vec String Option Result Rc Arc RefCell Cell HashMap HashSet BTreeMap
BTreeSet println print eprintln format vec panic assert assert_eq assert_ne write writeln
matches unreachable todo unimplemented debug_assert debug_assert_eq dbg include_str concat
"""
_RUST_MEMBERS = """
unwrap expect clone into iter iter_mut into_iter map collect to_string to_owned as_ref as_mut
len push is_some is_none is_ok is_err ok err unwrap_or unwrap_or_else unwrap_or_default
and_then borrow borrow_mut lock get get_mut insert remove contains is_empty as_str default
"""
_JAVA_BUILTINS = """
String Object Integer Long Double Float Boolean Character Byte Short Void Exception
RuntimeException IllegalArgumentException IllegalStateException NullPointerException
List Map Set ArrayList HashMap HashSet LinkedList Optional Override Deprecated
SuppressWarnings FunctionalInterface Iterable Iterator Collection Collections Arrays
"""
_JAVA_MEMBERS = """
equals hashCode toString get put add size println print append length isEmpty contains
remove format valueOf of stream map filter collect forEach iterator next hasNext
"""
_C_BUILTINS = """
printf fprintf sprintf snprintf vsnprintf puts fputs malloc calloc realloc free memcpy memset
memmove memcmp strlen strcmp strncmp strcpy strncpy strcat strchr strrchr strstr strdup assert
exit abort atoi atol strtol strtoul fopen fclose fread fwrite fgets
size_t ssize_t ptrdiff_t uint8_t uint16_t uint32_t uint64_t int8_t int16_t int32_t int64_t
uintptr_t intptr_t bool FILE
"""
_CPP_EXTRA = """
string vector map unordered_map set unordered_set pair tuple shared_ptr unique_ptr weak_ptr
optional function array deque list make_shared make_unique move forward swap
"""
_CPP_MEMBERS = """
push_back emplace_back size begin end c_str empty clear insert erase find at front back
reserve resize data get reset count substr append
"""


def _words(*blocks: str) -> frozenset[str]:
    return frozenset(w for block in blocks for w in block.split())


_JS = (_words(_JS_BUILTINS), _words(_JS_MEMBERS))
_C = (_words(_C_BUILTINS), frozenset())
# language -> (names whose plain references are skipped, names whose member calls are skipped)
STOPLISTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "python": (_words(_PY_BUILTINS), _words(_PY_MEMBERS)),
    "javascript": _JS, "typescript": _JS, "tsx": _JS,
    "go": (_words(_GO_BUILTINS), _words(_GO_MEMBERS)),
    "rust": (_words(_RUST_BUILTINS), _words(_RUST_MEMBERS)),
    "java": (_words(_JAVA_BUILTINS), _words(_JAVA_MEMBERS)),
    "c": _C,
    "cpp": (_words(_C_BUILTINS, _CPP_EXTRA), _words(_CPP_MEMBERS)),
}
