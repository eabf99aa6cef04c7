using TypedTrt.Cli;
using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Inspection.Tests;

public class TuneCliTests
{
    [Fact]
    public void Tune_without_a_gpu_says_so_in_one_line_and_exits_2()
    {
        Assert.SkipWhen(CudaDriver.IsAvailable, "This machine has a CUDA driver; the no-GPU path does not apply.");
        using var o = new StringWriter();
        using var e = new StringWriter();
        string svg = Path.Combine(Path.GetTempPath(), $"tune-{Guid.NewGuid():N}.svg");
        int code = Program.Run(["tune", "--test-engine", "pipeline", "--streams", "1,2", "--svg", svg], o, e);
        Assert.Equal(2, code);
        Assert.Equal("", o.ToString());
        string[] lines = e.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("needs an NVIDIA GPU", lines[0], StringComparison.Ordinal);
        Assert.False(File.Exists(svg));
    }

    [Fact]
    public void Tune_usage_errors_exit_2()
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        Assert.Equal(2, Program.Run(["tune"], o, e));
        Assert.Contains("tune needs an engine file or --test-engine pipeline", e.ToString(), StringComparison.Ordinal);
        using var e2 = new StringWriter();
        Assert.Equal(2, Program.Run(["tune", "--test-engine", "pipeline", "--streams", "0,x"], o, e2));
        Assert.Contains("--streams takes positive integers", e2.ToString(), StringComparison.Ordinal);
    }
}
