using ConnText.Server.Hosting;

return await ServerCommand.RunAsync(args);
