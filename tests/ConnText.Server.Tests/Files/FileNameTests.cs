using ConnText.Server.Files;

namespace ConnText.Server.Tests.Files;

public sealed class FileNameTests
{
    [Theory]
    [InlineData("photo.jpg", "photo.jpg")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("C:\\Users\\x\\..\\secret.txt", "secret.txt")]
    [InlineData("invoice\u202Efdp.exe", "invoicefdp.exe")]
    [InlineData("\u2066hidden\u2069.txt\u200B", "hidden.txt")]
    [InlineData("tab\there.txt", "tabhere.txt")]
    [InlineData("what?<>|*.txt", "what_____.txt")]
    [InlineData("nul", "_nul")]
    [InlineData("LPT1.tar.gz", "_LPT1.tar.gz")]
    [InlineData("COM10.txt", "COM10.txt")]
    [InlineData(" .hidden. ", "hidden")]
    [InlineData("", "file")]
    [InlineData("/", "file")]
    [InlineData("...", "file")]
    [InlineData(null, "file")]
    public void Sanitize_HostileNames_AreNeutralised(string? name, string expected) =>
        Assert.Equal(expected, FileNames.Sanitize(name));

    [Fact]
    public void Sanitize_LongName_CutToUtf8LimitKeepingExtension()
    {
        var name = string.Concat(Enumerable.Repeat("ü", 300)) + ".pdf";
        var sanitized = FileNames.Sanitize(name);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(sanitized) <= 255);
        Assert.EndsWith("ü.pdf", sanitized, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0 }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { 0x25, 0x50, 0x44, 0x46, 0x2D, 0x31 }, "application/pdf")]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14 }, "application/zip")]
    [InlineData(new byte[] { 0x68, 0x69, 0x0A }, "text/plain")]
    [InlineData(new byte[] { 0x00, 0x01, 0x02, 0xFE }, "application/octet-stream")]
    public void Detect_MagicBytes_GiveTheType(byte[] head, string expected) =>
        Assert.Equal(expected, ContentSniffer.Detect(head));
}
