using System.Diagnostics;

namespace SqueezeNext.Testing;

/// <summary>
/// Debian's gdk-pixbuf-tests corpus (GPL-2+, so fetched at test time, never committed): several hundred broken,
/// truncated, malicious and unusual images, among them decompression bombs and CVE reproducers.
/// </summary>
public static class HostileImages
{
    /// <summary>Downloads and unpacks the corpus under <paramref name="folder"/>; null when apt cannot get it.</summary>
    public static string? DownloadGdkPixbufCorpus(string folder)
    {
        Directory.CreateDirectory(folder);
        try
        {
            if (!Run("apt-get", folder, "download", "gdk-pixbuf-tests")) return null;
            var deb = Directory.GetFiles(folder, "gdk-pixbuf-tests_*.deb").FirstOrDefault();
            if (deb is null || !Run("dpkg-deb", folder, "-x", deb, Path.Combine(folder, "x"))) return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        // The test images (test-images/ and the loose files beside the test programs, such as issue205.jpg and large.jpg).
        var images = Path.Combine(folder, "x", "usr", "libexec", "installed-tests", "gdk-pixbuf");
        return Directory.Exists(images) ? images : null;
    }

    private static bool Run(string tool, string directory, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        return process.WaitForExit(120_000) && process.ExitCode == 0;
    }
}
