using ConnText.Desktop.Hosting;

return await DesktopApp.RunAsync(args);
