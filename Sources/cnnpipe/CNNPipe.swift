import ArgumentParser

@main
struct CNNPipe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnpipe",
        abstract: "Stream images through CNN filter graphs.",
        discussion: """
        cnnpipe reads images (JPEG, PNG, WebP; one or many back to back) from files or stdin, runs them
        through a graph of filter stages loaded from plugins, and writes the results to stdout or files.

        Examples:
          cnnpipe run -e 'resize width=640 | rotate angle=90' < in.jpg > out.jpg
          cat photos/*.jpg | cnnpipe run -e 'resize width=256' --format webp > small.webps
          cnnpipe run presets/contact-sheet.yaml photos/ -o sheet.png
          cnnpipe stages            # what stages the plugins provide
          cnnpipe inspect resize    # one stage's parameters and pads
        """,
        subcommands: [Run.self, Stages.self, Inspect.self, Presets.self, Validate.self, ModelCommand.self, FacesCommand.self, GalleryCommand.self])
}
