function capitalize(word) {
  if (!word) return word;
  return word[0].toUpperCase() + word.slice(0);
}

module.exports = { capitalize };
