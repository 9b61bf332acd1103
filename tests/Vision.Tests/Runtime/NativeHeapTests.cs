using SqueezeNext.Vision.Runtime;

namespace SqueezeNext.Vision.Tests.Runtime;

[Trait("Level", "unit")]
public sealed class NativeHeapTests
{
    [Fact]
    public void The_glibc_settings_apply_exactly_when_glibc_allocates()
    {
        Assert.Contains(NativeHeap.Allocator, new[] { "glibc", "tcmalloc", "jemalloc", "system" });
        Assert.Equal(NativeHeap.IsGlibcMalloc, NativeHeap.LimitArenas(2));
        if (!NativeHeap.IsGlibcMalloc) Assert.False(NativeHeap.Trim());
        Assert.Throws<ArgumentOutOfRangeException>(() => NativeHeap.LimitArenas(0));
    }
}
