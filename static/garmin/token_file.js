// The Garmin token-file form: a chosen file is read in the browser and put into the textarea, so only
// text is posted (the server takes no file uploads). Without JavaScript, pasting works the same way.
document.querySelectorAll("input[type=file][data-token-file-for]").forEach((input) => {
  const target = document.getElementById(input.dataset.tokenFileFor);
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file || !target) return;
    if (file.size > 100000) {
      target.value = "";
      input.setCustomValidity("This file is too large to be a Garmin token file.");
      input.reportValidity();
      return;
    }
    input.setCustomValidity("");
    file.text().then((text) => { target.value = text; });
  });
});
